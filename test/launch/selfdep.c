/* libselfdep.so, built into build/test/launch/ldpath/ where only selfview's own
 * LD_LIBRARY_PATH finds it: selfview dlopens it by bare name and prints
 * selfdep_value() (ld.library_path.dlopen=42). No libc. */
__attribute__((visibility("default"))) int selfdep_value(void) { return 42; }
