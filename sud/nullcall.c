/* Where did a call or jump into page 0 from code we did not rewrite go?
 *
 * Natively such a control transfer faults with rip = si_addr = the target. Under us it
 * lands in the sled and reaches tl_fast_entry, where rax is whatever the program had,
 * not the target (`call *%rdx` with rdx = 0). Two facts recover it:
 *  - the landing stub noted the sled group g, so the target is within
 *    [11g - 4, 11g + 6] (sled.h: an entry in group g-1's rel32 bytes decodes into g's jump);
 *  - a call pushed its return address R; the call instruction ends at R. Every encoding
 *    of a near call (E8 rel32, FF /2 with any ModRM/SIB/displacement form, REX, and the
 *    prefixes that do not change its meaning) is tried at R-2 .. R-15, its target
 *    computed from the program's registers (and memory, for `call *mem`), and the
 *    longest that decodes to exactly that length with a target in the group's window
 *    wins (a shorter one can be a suffix: `ff 94 24 d32` inside `41 ff 94 24 d32`).
 * No call decodes (a `ret`, a `jmp *%reg`, a jump through memory): the target is the
 * word just below rsp if it lies in the window (what a `ret` popped), else the first
 * register (rax, rcx, rdx, rbx, rbp, rsi, rdi, r8..r15) whose value does; failing both (a
 * jump through memory), the window's lowest address: within 10 bytes of the target. */
#include "sud/sud.h"

/* registers by x86 encoding number: rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
static void regs_of(const struct tl_frame *f, uint64_t rcx, uint64_t r11, uint64_t rsp, uint64_t r[16])
{
    r[0] = f->rax;
    r[1] = rcx;
    r[2] = f->rdx;
    r[3] = f->rbx;
    r[4] = rsp;
    r[5] = f->rbp;
    r[6] = f->rsi;
    r[7] = f->rdi;
    r[8] = f->r8;
    r[9] = f->r9;
    r[10] = f->r10;
    r[11] = r11;
    r[12] = f->r12;
    r[13] = f->r13;
    r[14] = f->r14;
    r[15] = f->r15;
}

/* Does b[0..len) decode as exactly one near call ending at next? Its target in *out. */
static int decode_call(const uint8_t *b, int len, uint64_t next, const uint64_t r[16], uint64_t *out)
{
    int i = 0, addr32 = 0, rex = 0;
    for (; i < len; i++) { /* prefixes that leave a 64-bit near call's meaning alone */
        uint8_t p = b[i];
        if (p == 0x67)
            addr32 = 1;
        else if (p != 0x2e && p != 0x3e && p != 0x26 && p != 0x36 && p != 0xf2)
            break;
    }
    if (i < len && (b[i] & 0xf0) == 0x40) rex = b[i++];
    if (i >= len) return 0;
    uint8_t op = b[i++];
    if (op == 0xe8) {
        if (i + 4 != len) return 0;
        int32_t d;
        memcpy(&d, b + i, 4);
        *out = next + (uint64_t)(int64_t)d;
        return 1;
    }
    if (op != 0xff || i >= len) return 0;
    uint8_t modrm = b[i++];
    int mod = modrm >> 6, rm = modrm & 7;
    if (((modrm >> 3) & 7) != 2) return 0; /* FF /2: call near, indirect */
    if (mod == 3) {
        if (i != len) return 0;
        *out = r[rm | (rex & 1) << 3];
        return 1;
    }
    uint64_t ea = 0;
    int disp_len = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (rm == 4) { /* SIB */
        if (i >= len) return 0;
        uint8_t sib = b[i++];
        int idx = ((sib >> 3) & 7) | (rex & 2) << 2, base = (sib & 7) | (rex & 1) << 3;
        if (idx != 4) ea += r[idx] << (sib >> 6);
        if ((sib & 7) == 5 && mod == 0)
            disp_len = 4;
        else
            ea += r[base];
    } else if (rm == 5 && mod == 0) { /* rip-relative */
        disp_len = 4;
        ea = next;
    } else {
        ea = r[rm | (rex & 1) << 3];
    }
    if (i + disp_len != len) return 0;
    if (disp_len == 1) ea += (uint64_t)(int64_t)(int8_t)b[i];
    if (disp_len == 4) {
        int32_t d;
        memcpy(&d, b + i, 4);
        ea += (uint64_t)(int64_t)d;
    }
    if (addr32) ea &= 0xffffffffull;
    return tl_safe_read(ea, out, 8);
}

uint64_t tl_null_target(const struct tl_frame *f, uint64_t rcx, uint64_t r11, uint32_t group)
{
    uint64_t lo = group * SLED_GROUP >= 4 ? group * SLED_GROUP - 4 : 0, hi = group * SLED_GROUP + 6;
    uint64_t r[16], ret, t;
    /* a call: the return address it pushed is at rsp, and rsp was 8 higher at the call */
    regs_of(f, rcx, r11, f->rsp + 8, r);
    if (tl_safe_read(f->rsp, &ret, 8) && ret > 16) {
        uint8_t b[15];
        int have = 15;
        while (have >= 2 && !tl_safe_read(ret - (uint64_t)have, b, (size_t)have)) have--;
        for (int len = have; len >= 2; len--)
            if (decode_call(b + (have - len), len, ret, r, &t) && t >= lo && t <= hi) return t;
    }
    /* a return: the address it popped is still just below rsp (for a jump that word is
     * stale stack, usually the return address of an earlier call: far from page 0) */
    if (tl_safe_read(f->rsp - 8, &t, 8) && t >= lo && t <= hi) return t;
    /* a jump: a register holding an address in the window */
    static const int order[15] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int k = 0; k < 15; k++)
        if (r[order[k]] >= lo && r[order[k]] <= hi) return r[order[k]];
    return lo;
}
