/* A library that exports trapline_hook as data, not as a function. */
long trapline_hook[4] = { 1, 2, 3, 4 };
