/* librzlib.so: test/c/rzforms.S's functions in a library that test/c/rzforms.c dlopens
 * (not a hook; built here because test/hooks/ is where shared libraries are built). */
int rzlib_marker;
