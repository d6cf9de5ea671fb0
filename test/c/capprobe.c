/* What a program run through the launcher with its file capability (trapline setup) holds:
 * prints one line, "inh=.. prm=.. eff=.. amb=.. secure=N mmap0=RESULT", the capability sets
 * from /proc/self/status, AT_SECURE, and what mmap of address 0 gives it (ok, or the errno
 * name). usage: capprobe [exec]: with exec, then execs itself once (without it). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void capset_of(const char *name, char *out)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    strcpy(out, "?");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, strlen(name)) == 0) {
            sscanf(line + strlen(name), " %63s", out);
            break;
        }
    if (f) fclose(f);
}

int main(int argc, char **argv)
{
    char inh[64], prm[64], eff[64], amb[64];
    capset_of("CapInh:", inh);
    capset_of("CapPrm:", prm);
    capset_of("CapEff:", eff);
    capset_of("CapAmb:", amb);
    void *p = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    const char *m = p == 0 ? "ok" : p != MAP_FAILED ? "elsewhere" : errno == EPERM ? "EPERM" : errno == EEXIST ? "EEXIST" : "other";
    if (p == 0) munmap(0, 4096);
    printf("inh=%s prm=%s eff=%s amb=%s secure=%lu mmap0=%s\n", inh, prm, eff, amb, getauxval(AT_SECURE), m);
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        execl("/proc/self/exe", argv[0], (char *)0);
        perror("exec");
        return 1;
    }
    return 0;
}
