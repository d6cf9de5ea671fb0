/* A zpoline-ABI hook that stores a NULL hook function. */
int __hook_init(long placeholder, void *hook_ptr)
{
    (void)placeholder;
    *(void **)hook_ptr = 0;
    return 0;
}
