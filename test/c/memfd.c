/* Code executed from a memfd mapping (as a JIT or a packer would load it): a getppid
 * site run three times. The interposer records its module with origin `anonymous`
 * (the mapping has no file), not as a dlopen'd library. Prints a transcript compared
 * with the uninterposed run. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static const unsigned char CODE[] = { 0x90, 0x90, 0x90, 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };   /* getppid at +8 */

int main(void)
{
    int fd = memfd_create("trapline-test-code", MFD_CLOEXEC);
    if (fd < 0) { perror("memfd_create"); return 1; }
    unsigned char page[4096];
    memset(page, 0xcc, sizeof page);
    memcpy(page, CODE, sizeof CODE);
    if (write(fd, page, sizeof page) != (ssize_t)sizeof page) { perror("write"); return 1; }
    unsigned char *p = mmap(0, sizeof page, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    long (*f)(void) = (long (*)(void))p;
    long a = f(), b = f(), c = f();
    printf("memfd code: %d\n", a == getppid() && b == a && c == a);
    return 0;
}
