/* Vendored from the team's shared bench kit (noise/cpuspin.c there); unchanged but for this line. */
/* cpuspin: fixed amount of single-threaded integer work; wall time is the
 * CPU-noise probe for this shared host. usage: cpuspin [ITERS=300000000] */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
int main(int argc,char**argv){uint64_t n=argc>1?strtoull(argv[1],0,10):300000000ULL,x=88172645463325252ULL,s=0;
  for(uint64_t i=0;i<n;i++){x^=x<<13;x^=x>>7;x^=x<<17;s+=x;} printf("%llu\n",(unsigned long long)(s&0xff));return 0;}
