/* libselfaudit.so: an rtld-audit module (man 7 rtld-audit) named by selfview's own
 * LD_AUDIT. glibc's loader maps it in a namespace of its own before the program's
 * libraries; selfview looks for it in /proc/self/maps (ld.audit.mapped=1). musl ignores
 * LD_AUDIT. No libc. */
__attribute__((visibility("default"))) unsigned int la_version(unsigned int version) { return version; }
