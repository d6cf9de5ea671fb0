/* timecalls: the calls the vDSO answers, N times each.
 *
 *   timecalls N
 *
 * clock_gettime(CLOCK_MONOTONIC), gettimeofday, time and getcpu (musl: sched_getcpu,
 * which tries the vDSO's getcpu first), N times each. Natively they are answered in user
 * space by the vDSO, so neither strace nor trapline sees them; with `trapline run
 * --vdso off` (the vDSO hidden: no AT_SYSINFO_EHDR) the libc falls back to real system
 * calls, which trapline counts: glibc makes N each of clock_gettime, gettimeofday, time
 * and getcpu; musl makes 3N clock_gettime (its gettimeofday and time call clock_gettime)
 * and N getcpu. Prints `timecalls n=N vdso=0|1 monotonic=ok cpu=ok`.
 *
 * Built as build/test/launch/timecalls-{dyn,static} and timecalls-musl when musl-gcc
 * exists (CMakeLists.txt, "launch fixtures"). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    int mono_ok = 1, cpu_ok = 1;
    struct timespec prev = {0, 0}, ts;
    for (long i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (ts.tv_sec < prev.tv_sec || (ts.tv_sec == prev.tv_sec && ts.tv_nsec < prev.tv_nsec)) mono_ok = 0;
        prev = ts;
    }
    struct timeval tv;
    for (long i = 0; i < n; i++) if (gettimeofday(&tv, NULL) != 0) mono_ok = 0;
    for (long i = 0; i < n; i++) if (time(NULL) == (time_t)-1) mono_ok = 0;
    for (long i = 0; i < n; i++) {
#ifdef __GLIBC__
        unsigned cpu = 0, node = 0;
        if (getcpu(&cpu, &node) != 0) cpu_ok = 0;
#else
        int cpu = sched_getcpu();
        if (cpu < 0) cpu_ok = 0;
#endif
    }
    printf("timecalls n=%ld vdso=%d monotonic=%s cpu=%s\n", n, getauxval(AT_SYSINFO_EHDR) != 0,
           mono_ok ? "ok" : "BAD", cpu_ok ? "ok" : "BAD");
    return 0;
}
