/* exec with the environment cleared must still run interposed.
 * usage: execenv PROG ARGS...   first tries an exec that fails (ENOENT: the caller must
 * stay interposed and see the error), makes one getppid, then execs PROG with an empty
 * environment. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    char *none[] = { 0 };
    char *args[] = { "x", 0 };
    int r = execve("/nonexistent/program", args, none);
    printf("failed exec: %d %s\n", r, strerror(errno));
    fflush(stdout);
    getppid();
    execve(argv[1], argv + 1, none);
    perror("execve");
    return 127;
}
