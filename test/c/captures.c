/* Prints the core's capture table (core/trace_caps.c) as JSON, in the shape of the
 * formatter's description (ts/src/policy/capture.ts, CAPTURES: { nr: [{ arg, dir, kind,
 * len, size, sizeArg, max, offset, perRet, countArg, if }] }), for test/policy.test.ts to
 * compare. The C-only refinements (poll's element size, a written sockaddr's length) are
 * left out: the formatter does not need them. */
#include <stdio.h>
#include "../../core/trace_caps.c"

static const char *kinds[] = { "?", "path", "string", "buffer", "struct", "argv", "count", "dirents", "bytes", "deref", "iov" };

int main(void)
{
    printf("{");
    int firstnr = 1;
    for (unsigned nr = 0; nr < 1024; nr++) {
        int any = 0;
        for (unsigned i = 0; i < tl_ncaps; i++) {
            const struct tl_cap *k = &tl_caps[i];
            if (k->nr != nr) continue;
            printf("%s", any ? ", " : firstnr ? "\n  " : ",\n  ");
            if (!any) printf("\"%u\": [", nr);
            any = 1;
            firstnr = 0;
            printf("{ \"arg\": %u, \"dir\": \"%s\", \"kind\": \"%s\"", k->arg, k->dir ? "out" : "in", kinds[k->kind]);
            if (k->kind == TL_CAP_BUFFER) {
                if (k->len == TL_CAP_RET) printf(", \"len\": \"ret\"");
                else printf(", \"len\": %u", k->len - 1);
            }
            if (k->kind == TL_CAP_STRUCT || k->kind == TL_CAP_DEREF) printf(", \"size\": %u", k->size);
            if (k->kind == TL_CAP_BYTES) printf(", \"max\": %u", k->size);
            if (k->size_arg) printf(", \"sizeArg\": %u", k->size_arg - 1);
            if (k->per_ret) printf(", \"perRet\": %u", k->per_ret);
            if (k->count_arg) printf(", \"countArg\": %u", k->count_arg - 1);
            if (k->kind == TL_CAP_DEREF) printf(", \"offset\": %u", k->offset);
            if (k->if_arg) {
                printf(", \"if\": { \"arg\": %u, \"values\": [", k->if_arg - 1);
                for (unsigned v = 0; v < k->if_n; v++) printf("%s%u", v ? ", " : "", k->if_vals[v]);
                printf("]");
                if (k->if_mask) printf(", \"mask\": %u", k->if_mask);
                printf(" }");
            }
            printf(" }");
        }
        if (any) printf("]");
    }
    printf("\n}\n");
    return 0;
}
