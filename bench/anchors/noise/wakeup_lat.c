/* Vendored from the team's shared bench kit (noise/wakeup_lat.c there); unchanged but for this line. */
/* wakeup_lat: scheduling-jitter floor of this VM. Sleeps to absolute slots at
 * RATE/s (clock_nanosleep TIMER_ABSTIME) and records how late each wake-up
 * was. No broker can show an end-to-end p99 below this on this host.
 * usage: wakeup_lat [RATE=5000] [N=50000] */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static uint64_t now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return (uint64_t)t.tv_sec*1000000000ull+t.tv_nsec;}
static int cmp(const void*a,const void*b){uint64_t x=*(const uint64_t*)a,y=*(const uint64_t*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  long rate=argc>1?atol(argv[1]):5000, n=argc>2?atol(argv[2]):50000;
  uint64_t*lag=malloc(sizeof(uint64_t)*n), t0=now()+10000000ull;
  for(long i=0;i<n;i++){uint64_t tg=t0+(uint64_t)((double)i*1e9/rate);
    struct timespec ts={(time_t)(tg/1000000000ull),(long)(tg%1000000000ull)};
    while(clock_nanosleep(CLOCK_MONOTONIC,TIMER_ABSTIME,&ts,NULL)){}
    lag[i]=now()-tg;}
  qsort(lag,n,sizeof *lag,cmp);
  printf("wakeup_lat rate=%ld n=%ld p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",rate,n,
    lag[n/2]/1e3,lag[(long)(n*0.99)]/1e3,lag[(long)(n*0.999)]/1e3,lag[n-1]/1e3);
  return 0;}
