/* Makes N getppid calls, prints "ready", then blocks opening and reading FIFO until the
 * writer closes it; then makes N more and exits 5. Lets a test look at the live coverage
 * while the program runs. usage: blockread N FIFO */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    long n = atol(argv[1]);
    for (long i = 0; i < n; i++) getppid();
    printf("ready\n");
    fflush(stdout);
    int fd = open(argv[2], O_RDONLY);
    char c;
    while (fd >= 0 && read(fd, &c, 1) > 0) {}
    for (long i = 0; i < n; i++) getppid();
    return 5;
}
