/* A trapline.h hook for the policy tests: hands every call on (api->syscall) and, for
 * getppid, says on stderr what api->syscall returned, so a test sees that the hook ran
 * with the rules' decision already made (docs/hooks.md, "Hooks and policies"). Its own
 * write goes straight to the kernel. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "trapline.h"

static const struct trapline_api *T;

int trapline_init(const struct trapline_api *api)
{
    T = api;
    return api->version == TRAPLINE_ABI_VERSION ? 0 : 1;
}

long trapline_hook(struct trapline_call *c)
{
    long r = T->syscall(c);
    if (c->nr == 110 && c->abi == TRAPLINE_ABI_X86_64) {
        char line[64];
        int n = snprintf(line, sizeof line, "hook: getppid -> %ld\n", r);
        if (write(2, line, (size_t)n) < 0) return r;
    }
    return r;
}
