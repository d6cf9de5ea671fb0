/* Prints getppid() and getuid() (twice, so the second call takes a rewritten site). */
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 2; i++) printf("ppid=%ld uid=%ld\n", (long)getppid(), (long)getuid());
    return 0;
}
