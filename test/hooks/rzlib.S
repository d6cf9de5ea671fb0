/* librzlib.so: the red-zone fixtures of test/c/rzforms.S, loaded with dlopen */
#include "../c/rzforms.S"
