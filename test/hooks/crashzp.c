/* A zpoline-ABI hook whose __hook_init crashes (SIGILL: ud2). */
int __hook_init(long placeholder, void *hook_ptr)
{
    (void)placeholder; (void)hook_ptr;
    __builtin_trap();
}
