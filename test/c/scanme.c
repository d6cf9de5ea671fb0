/* Fixture for the static scanner; the sites are in scanme.S (see there and docs/scan.md).
 * usage: scanme [N]   calls site_plain N times (default 3), then site_imm and site_redzone
 * once each, printing "<function> <return value>" per call. Every call returns getpid()
 * (site_redzone -1 if the values it left below %rsp were overwritten). Exit status 0 if
 * all calls returned getpid(), else 1. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

long site_plain(void);
long site_imm(void);
long site_redzone(long a, long b);

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    long pid = (long)getpid();
    int bad = 0;
    for (int i = 0; i < n; i++) {
        long r = site_plain();
        printf("site_plain %ld\n", r);
        bad |= r != pid;
    }
    long r = site_imm();
    printf("site_imm %ld\n", r);
    bad |= r != pid;
    r = site_redzone(0x1111111111111111L, 0x2222222222222222L);
    printf("site_redzone %ld\n", r);
    bad |= r != pid;
    return bad;
}
