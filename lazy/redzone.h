/* The red-zone rule: may the code around a `syscall` keep data below %rsp across it?
 * One definition, compiled into libtrapline.so (lazy/rewrite.c, lazy/plan.c: learn and
 * plan paths) and into the N-API addon (the scanner, ts/src/scan.ts), so both always
 * classify a site the same way. Pure: no system calls, no libc, no global state.
 * docs/design.md "The red-zone rule" describes it. */
#ifndef TRAPLINE_REDZONE_H
#define TRAPLINE_REDZONE_H
#include <stdint.h>
#include <stddef.h>

/* The window of code the rule looks at, around the site's first byte: this many bytes
 * before it and after it, clipped by the caller to the bytes of the mapping (in
 * process) or of the page-rounded PT_LOAD segment (scanner) holding the site. */
#define TL_RZ_BEFORE 128u
#define TL_RZ_AFTER 256u

enum tl_rz_kind {
    TL_RZ_NONE = 0, /* no use found: the site may be rewritten */
    TL_RZ_BELOW_RSP = 1, /* after the site, memory below %rsp is accessed through %rsp */
    TL_RZ_VIA_COPY = 2, /* ... through a register holding %rsp + k (mov %rsp,%rbx; lea) */
    TL_RZ_ARG = 3, /* an argument register points below %rsp at the site */
    TL_RZ_ESCAPE = 4, /* a pointer below %rsp is stored to memory */
    TL_RZ_STRING = 5, /* a string instruction (movs/stos/...) with %rdi/%rsi below %rsp */
    TL_RZ_LIMIT = 6, /* the analysis did not settle within its step limit */
    TL_RZ_UNREADABLE = 7, /* the site's bytes could not be read (set by callers) */
};

struct tl_rz_result {
    int kind; /* enum tl_rz_kind */
    uint32_t at; /* offset in code[] of the instruction found (kind 1..6) */
};

#ifdef __cplusplus
extern "C" {
#endif
/* code[0..len) holds the window; code[site], code[site + 1] is the site (0f 05).
 * Returns kind (also stored in *out). */
int tl_redzone_check(const uint8_t *code, size_t len, size_t site, struct tl_rz_result *out);

/* Length of the x86-64 instruction at p (at most avail bytes), 0 if invalid or cut off. */
int tl_insn_length(const uint8_t *p, size_t avail);
#ifdef __cplusplus
}
#endif

#endif
