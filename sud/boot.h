/* The contract between the injector (sud/inject.c, in a helper process) and the boot
 * image's entry (sud/boot.S, sud/boot.c, in the program): shared by C and assembly. */
#ifndef TRAPLINE_BOOT_H
#define TRAPLINE_BOOT_H

#define TL_BOOT_GADGET_OFF 2 /* tl_boot_gadget - tl_boot_entry (`jmp 1f` is 2 bytes) */
#define TL_BOOT_MAGIC 0x746f6f62656e696cull /* "lineboot" */
#define TL_BOOT_VERSION 5
#define TL_BOOT_ARGS_FD 40 /* offsetof(struct tl_boot_args, fd), for sud/boot.S */
#define TL_BOOT_ARGS_UNMAP 56 /* offsetof(struct tl_boot_args, unmap), for sud/boot.S */
#define TL_BOOT_ARGS_DROP 64 /* offsetof(struct tl_boot_args, drop), for sud/boot.S */
#define TL_BOOT_AREA (128 * 1024) /* the block the injector maps or places: args, strings, stack */
#define TL_BOOT_STACK (64 * 1024) /* at its top: the boot's stack */

#ifndef __ASSEMBLER__
#include <stdint.h>
/* Written by the injector at the start of the area it mapped in the program. */
struct tl_boot_args {
    uint64_t magic, version;
    uint64_t sp0; /* the program's initial stack pointer (-> argc) */
    uint64_t settings; /* char **: "TRAPLINE_X=value" ..., NULL: what tl_env holds */
    uint64_t self; /* const char *: the boot image's path */
    int64_t fd; /* the boot image, open in the program: closed by the boot */
    uint64_t vdso_hidden; /* --vdso off: the vDSO's address, taken out of the auxv; 0 */
    uint64_t unmap; /* the block's length, unmapped by the boot at its end; 0: the block is
                     * on the program's stack, below its initial stack pointer */
    uint64_t drop; /* then: its length with the boot's stack above it, whose pages the boot
                    * drops at its end (MADV_DONTNEED) */
};
_Static_assert(__builtin_offsetof(struct tl_boot_args, fd) == TL_BOOT_ARGS_FD, "sud/boot.S reads the fd there");
_Static_assert(__builtin_offsetof(struct tl_boot_args, unmap) == TL_BOOT_ARGS_UNMAP, "sud/boot.S reads the length there");
_Static_assert(__builtin_offsetof(struct tl_boot_args, drop) == TL_BOOT_ARGS_DROP, "sud/boot.S reads the length there");
#endif
#endif
