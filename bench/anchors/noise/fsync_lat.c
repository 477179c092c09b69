/* Vendored from the team's shared bench kit (noise/fsync_lat.c there); unchanged but for this line. */
/* fsync_lat: physical durability floor of this disk.
 * Appends a record of SIZE bytes then fdatasync(), N times; prints
 * ops/s and p50/p99/max latency of write+fdatasync.
 * usage: fsync_lat DIR [N=2000] [SIZE=300]
 * This is the ceiling for "every event durable before ack, one at a time"
 * (Redis appendfsync always with a single client, JetStream sync_always). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  if(argc<2){fprintf(stderr,"usage: %s DIR [N] [SIZE]\n",argv[0]);return 2;}
  int n=argc>2?atoi(argv[2]):2000, sz=argc>3?atoi(argv[3]):300;
  char path[4096]; snprintf(path,sizeof path,"%s/fsync_lat.dat",argv[1]);
  int fd=open(path,O_CREAT|O_TRUNC|O_WRONLY|O_APPEND,0600); if(fd<0){perror("open");return 1;}
  char*buf=malloc(sz); memset(buf,'x',sz); buf[sz-1]='\n';
  double*lat=malloc(sizeof(double)*n); double t0=now();
  for(int i=0;i<n;i++){double a=now(); if(write(fd,buf,sz)!=sz){perror("write");return 1;} if(fdatasync(fd)){perror("fdatasync");return 1;} lat[i]=now()-a;}
  double el=now()-t0; qsort(lat,n,sizeof(double),cmp);
  printf("fsync_lat n=%d size=%d ops_s=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f\n",n,sz,n/el,lat[n/2]*1e6,lat[(int)(n*0.99)]*1e6,lat[n-1]*1e6);
  close(fd); unlink(path); return 0;}
