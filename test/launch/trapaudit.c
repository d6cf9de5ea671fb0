/* libtrapaudit.so: an rtld-audit module (man 7 rtld-audit) that, when the loader starts
 * it (before any library of the program is loaded), sets SIGTRAP to SIG_IGN and blocks
 * it, as a program may inherit it: trapline's wait for the loader (sud/boot.c) must not
 * depend on SIGTRAP. No libc: raw system calls. */
static long sys4(long nr, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}

__attribute__((visibility("default"))) unsigned int la_version(unsigned int version)
{
    struct {
        unsigned long handler, flags, restorer, mask;
    } ign = {1 /* SIG_IGN */, 0, 0, 0};
    unsigned long trap = 1ul << (5 - 1); /* SIGTRAP */
    sys4(13 /* rt_sigaction */, 5, (long)&ign, 0, 8);
    sys4(14 /* rt_sigprocmask */, 0 /* SIG_BLOCK */, (long)&trap, 0, 8);
    return version;
}
