/* Not a hook: a library the dlopen test loads at run time. dl_getppid makes getppid from
 * an inline syscall in this library, so its site belongs to it. */
long dl_getppid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(110L) : "rcx", "r11", "memory");
    return r;
}
