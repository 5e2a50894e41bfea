#include "commands.h"
int ctl_run(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err) { (void)g;(void)argc;(void)argv; return hk_error_setx(err, -38, "todo"); }
