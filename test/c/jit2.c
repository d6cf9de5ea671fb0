/* JIT region rewritten with different code: the old site (offset 8) goes stale, the new
 * one (offset 24) is learned. Prints "ok <region address>". */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

int main(void)
{
    static const unsigned char A[] = { 0x90, 0x90, 0x90, 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(p, A, sizeof A);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    for (int i = 0; i < 10; i++) ((long (*)(void))p)();
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
    memset(p, 0xcc, 64);
    memcpy(p + 16, A, sizeof A);                  /* same code, site now at offset 24 */
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    for (int i = 0; i < 10; i++) ((long (*)(void))(p + 16))();
    printf("ok %p\n", (void *)p);
    return 0;
}
