/* Bytes 0f 05 that are not an executed syscall instruction are never changed: inside an
 * immediate, and data placed in .text. Executes the code (and real syscalls) many times,
 * then compares the bytes. Prints "ok" or what changed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern const unsigned char imm_fn[], imm_fn_end[], text_data[];
__asm__(
    ".text\n"
    ".globl imm_fn\n imm_fn:\n"
    "  mov $0x050f050f, %eax\n"          /* b8 0f 05 0f 05 */
    "  movabs $0x00050f00050f050f, %rdx\n"
    "  ret\n"
    ".globl imm_fn_end\n imm_fn_end:\n"
    "  jmp 1f\n"
    ".globl text_data\n text_data:\n"
    "  .byte 0x0f, 0x05, 0x0f, 0x05, 0x90, 0x0f, 0x05\n"
    "1: ret\n");

int main(void)
{
    unsigned char before[64], data_before[7];
    size_t n = (size_t)(imm_fn_end - imm_fn);
    memcpy(before, imm_fn, n);
    memcpy(data_before, text_data, sizeof data_before);
    for (int i = 0; i < 1000; i++) {
        ((void (*)(void))imm_fn)();
        ((void (*)(void))(imm_fn_end))();     /* jumps over the data */
        getppid();
    }
    if (memcmp(before, imm_fn, n)) { printf("immediate bytes changed\n"); return 1; }
    if (memcmp(data_before, text_data, sizeof data_before)) { printf("data in .text changed\n"); return 1; }
    printf("ok\n");
    return 0;
}
