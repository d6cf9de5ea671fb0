/* Not a hook: the plugin test/c/polcalls.c dlopen()s in its `plugin` mode. Its calls are
 * made by syscall instructions of its own, so their sites belong to this library (a rule
 * scoped to libpolplugin.so selects them, and only them). */
long plugin_socket(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(41L), "D"(1L), "S"(1L), "d"(0L) : "rcx", "r11", "memory");   /* socket(AF_UNIX, SOCK_STREAM, 0) */
    return r;
}

long plugin_getppid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(110L) : "rcx", "r11", "memory");
    return r;
}
