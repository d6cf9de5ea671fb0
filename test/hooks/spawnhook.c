/* A hook that starts a program from its initialiser, as a hook that runs system() or
 * posix_spawn would. SPAWNHOOK=plain: system("PROG"), with the hook's own environment
 * (not interposed); SPAWNHOOK=interposed: posix_spawn(PROG) with api->interposed_env plus
 * SPAWNHOOK_CHILD=1 (interposed; the child's copy of the hook then starts nothing).
 * Prints what it saw on stderr. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "trapline.h"

static const struct trapline_api *T;

int trapline_init(const struct trapline_api *api)
{
    T = api;
    const char *mode = getenv("SPAWNHOOK"), *prog = getenv("SPAWNHOOK_PROG");
    const char *pre = getenv("LD_PRELOAD");
    fprintf(stderr, "spawnhook: preload=%s trapline_vars=%d\n", pre && *pre ? "set" : "none", getenv("TRAPLINE_STATS") != 0);
    if (getenv("SPAWNHOOK_CHILD") || !mode || !prog) return 0;
    int st = -1;
    if (strcmp(mode, "plain") == 0) {
        setenv("SPAWNHOOK_CHILD", "1", 1);      /* a copy of this hook in the child starts nothing */
        st = system(prog);
    } else {
        size_t n = 0;
        while (api->interposed_env[n]) n++;
        char **env = calloc(n + 2, sizeof *env);
        memcpy(env, api->interposed_env, n * sizeof *env);
        env[n] = "SPAWNHOOK_CHILD=1";
        char *argv[] = { (char *)prog, 0 };
        pid_t pid;
        if (posix_spawn(&pid, prog, 0, 0, argv, env) == 0) waitpid(pid, &st, 0);
    }
    fprintf(stderr, "spawnhook: child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

long trapline_hook(struct trapline_call *c) { return T->syscall(c); }
