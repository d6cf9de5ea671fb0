/* What the core captures of a traced call's memory (core/trace_caps.c): the agreement with
 * the formatter, which decodes TraceEvent.data by the same description (polts' capture.ts,
 * `CAPTURES`: test/policy.test.ts compares the two when both are present). Each entry
 * gives one item of one number; an item is taken when its pointer argument is not NULL,
 * its condition holds, and, for 'out', when the call succeeded. docs/policies.md, "What is
 * captured". Pure data: no system calls, no libc. */
#ifndef TRAPLINE_TRACE_CAPS_H
#define TRAPLINE_TRACE_CAPS_H
#include <stdint.h>
#include "core/trace_layout.h"

enum tl_cap_kind {
    TL_CAP_PATH = 1, /* a NUL-terminated path, without its NUL, up to PATH_MAX */
    TL_CAP_STRING, /* a NUL-terminated string, without its NUL, up to strsize */
    TL_CAP_BUFFER, /* len bytes (an argument, or the result), up to strsize */
    TL_CAP_STRUCT, /* size bytes (or fewer: size_arg, per_ret, vres_arg) */
    TL_CAP_ARGV, /* a NULL-terminated array of strings: each up to strsize + 1 bytes and a NUL, at most strsize of them */
    TL_CAP_COUNT, /* a NULL-terminated array of pointers: its length, a u32 */
    TL_CAP_DIRENTS, /* the result's bytes (linux_dirent records), up to TL_CAP_BIG_MAX */
    TL_CAP_BYTES, /* the result's bytes, up to size */
    TL_CAP_DEREF, /* size bytes at the address stored at offset in the argument's memory */
    TL_CAP_IOV, /* struct iovec[count]: per element base u64, len u64, n u32, n bytes of contents */
};
#define TL_CAP_IN 0
#define TL_CAP_OUT 1
#define TL_CAP_RET 7 /* len: the result */
#define TL_CAP_BIG_MAX TL_TRACE_BIG_MAX /* bytes of an argv, iovec or dirents item */
#define TL_CAP_PER_NR 6u /* table entries of one number at most (items captured: TL_TRACE_DATA_MAX) */

struct tl_cap {
    uint16_t nr;
    uint8_t arg, dir, kind;
    uint8_t len; /* buffer: 1 + the argument holding the length, or TL_CAP_RET */
    uint8_t size_arg; /* struct: 1 + the argument holding the size (x size_mul), 0: none */
    uint8_t size_mul; /* struct: bytes per unit of size_arg (poll: 8 bytes per pollfd), 0: 1 */
    uint8_t vres_arg; /* struct out: 1 + the argument pointing at the socklen_t the call wrote (the size) */
    uint8_t count_arg; /* iov: 1 + the argument holding the element count */
    uint8_t offset; /* deref */
    uint8_t per_ret; /* struct: min(size, result x per_ret) */
    uint8_t if_arg; /* 1 + the argument a condition reads, 0: none */
    uint8_t if_n; /* the condition: (args[if_arg - 1] & if_mask) is one of if_vals[0..if_n) */
    uint32_t size; /* struct, deref: bytes; bytes: the most */
    uint32_t if_mask; /* 0: every bit */
    uint32_t if_vals[9];
};

extern const struct tl_cap tl_caps[] __attribute__((visibility("hidden")));
extern const unsigned tl_ncaps __attribute__((visibility("hidden")));

#endif
