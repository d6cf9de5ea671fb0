/* Prints the trace segment's layout (core/trace_layout.h) as JSON: every field offset the
 * TypeScript reader uses, the record sizes, the limits and the flag values, and the
 * geometry (core/trace_check.c) of a few shapes. ts/scripts/gen-layout.mjs writes
 * ts/src/trace-layout.ts from it; test/layout.test.ts fails if the two ever differ and if
 * ts/src/trace.ts lays a segment out otherwise (the C header is the one source of truth). */
#include <stddef.h>
#include <stdio.h>
#include "core/trace_layout.h"
#include "../../core/trace_check.c"

#define F(s, f) printf("%s\"%s\": %zu", first++ ? ", " : "", #f, offsetof(struct s, f))
#define V(name, v) printf("%s\"%s\": %llu", first++ ? ", " : "", name, (unsigned long long)(v))

int main(void)
{
    int first;
    printf("{\n  \"header\": {");
    first = 0;
    F(tl_trace_header, magic); F(tl_trace_header, version); F(tl_trace_header, header_size);
    F(tl_trace_header, total_size); F(tl_trace_header, cookie); F(tl_trace_header, ring_count);
    F(tl_trace_header, ring_size); F(tl_trace_header, ring_off); F(tl_trace_header, data_off);
    F(tl_trace_header, module_off); F(tl_trace_header, module_cap); F(tl_trace_header, module_count);
    F(tl_trace_header, flags); F(tl_trace_header, reader_pid); F(tl_trace_header, heartbeat);
    F(tl_trace_header, rings_used); F(tl_trace_header, dropped); F(tl_trace_header, waits);
    F(tl_trace_header, wait_ns);
    printf("},\n  \"ring\": {");
    first = 0;
    F(tl_ring_ctl, state); F(tl_ring_ctl, pid); F(tl_ring_ctl, tid); F(tl_ring_ctl, pending);
    F(tl_ring_ctl, head); F(tl_ring_ctl, head_again); F(tl_ring_ctl, dropped); F(tl_ring_ctl, tail);
    F(tl_ring_ctl, tail_again);
    printf("},\n  \"rec\": {");
    first = 0;
    F(tl_trace_rec, size); F(tl_trace_rec, type); F(tl_trace_rec, flags); F(tl_trace_rec, pid);
    F(tl_trace_rec, tid); F(tl_trace_rec, nr); F(tl_trace_rec, module); F(tl_trace_rec, offset);
    F(tl_trace_rec, args); F(tl_trace_rec, ret); F(tl_trace_rec, ts_ns); F(tl_trace_rec, dur_ns);
    F(tl_trace_rec, lost_before); F(tl_trace_rec, ndata); F(tl_trace_rec, signal);
    printf("},\n  \"data\": {");
    first = 0;
    F(tl_trace_data, arg); F(tl_trace_data, dir); F(tl_trace_data, flags); F(tl_trace_data, len);
    printf("},\n  \"module\": {");
    first = 0;
    F(tl_trace_module, ready); F(tl_trace_module, origin); F(tl_trace_module, build_id_len);
    F(tl_trace_module, build_id); F(tl_trace_module, path);
    printf("},\n  \"size\": {");
    first = 0;
    V("header", sizeof(struct tl_trace_header)); V("ring", sizeof(struct tl_ring_ctl));
    V("rec", sizeof(struct tl_trace_rec)); V("data", sizeof(struct tl_trace_data));
    V("module", sizeof(struct tl_trace_module)); V("path", TL_TRACE_PATH);
    printf("},\n  \"const\": {");
    first = 0;
    V("version", TL_TRACE_VERSION); V("ring_min", TL_TRACE_RING_MIN); V("ring_max", TL_TRACE_RING_MAX);
    V("rings_max", TL_TRACE_RINGS_MAX); V("modules_max", TL_TRACE_MODULES_MAX); V("path_max", TL_TRACE_PATH_MAX);
    V("strsize_max", TL_TRACE_STRSIZE_MAX); V("data_max", TL_TRACE_DATA_MAX); V("big_max", TL_TRACE_BIG_MAX); V("sockaddr_max", TL_TRACE_SOCKADDR_MAX);
    V("align", TL_TRACE_ALIGN); V("no_module", TL_TRACE_NO_MODULE);
    printf("},\n  \"flag\": {");
    first = 0;
    V("allocated", TL_TRACE_F_ALLOCATED); V("closed", TL_TRACE_F_CLOSED); V("reader_gone", TL_TRACE_F_READER_GONE);
    printf("},\n  \"state\": {");
    first = 0;
    V("free", TL_RING_FREE); V("used", TL_RING_USED); V("closed", TL_RING_CLOSED);
    printf("},\n  \"type\": {");
    first = 0;
    V("call", TL_REC_CALL); V("pad", TL_REC_PAD);
    printf("},\n  \"rflag\": {");
    first = 0;
    V("i386", TL_REC_I386); V("injected", TL_REC_INJECTED); V("denied", TL_REC_DENIED);
    V("noreturn", TL_REC_NORETURN); V("killed", TL_REC_KILLED); V("exec", TL_REC_EXEC);
    printf("},\n  \"dir\": {");
    first = 0;
    V("in", TL_DATA_IN); V("out", TL_DATA_OUT); V("truncated", TL_DATA_TRUNCATED);
    printf("},\n  \"geometry\": [");
    static const unsigned shapes[][3] = { { 1, 65536, 1 }, { 64, 1u << 20, 1024 }, { 256, 262144, 4096 }, { 4096, 65536, 65536 } };
    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        struct tl_trace_geom g;
        tl_trace_geom(shapes[i][0], shapes[i][1], shapes[i][2], &g);
        printf("%s\n    { \"rings\": %u, \"ring_size\": %u, \"modules\": %u, \"ring\": %llu, \"data\": %llu, \"module\": %llu, \"size\": %llu }",
               i ? "," : "", shapes[i][0], shapes[i][1], shapes[i][2], (unsigned long long)g.ring, (unsigned long long)g.data,
               (unsigned long long)g.module, (unsigned long long)g.size);
    }
    printf("\n  ]\n}\n");
    return 0;
}
