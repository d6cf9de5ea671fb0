/* A 32-bit (i386) static program with no libc: trapline interposes x86-64 programs only;
 * a run of it is refused, and exec'd from inside a run it runs without trapline, saying so. */
.globl _start
_start:
  mov $4, %eax
  mov $1, %ebx
  mov $msg, %ecx
  mov $6, %edx
  int $0x80
  mov $1, %eax
  mov $0, %ebx
  int $0x80
.data
msg: .ascii "hi32!\n"
