/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Copy what is below the directory src into the directory dst: files,
 * directories, symlinks (not followed) and fifos, with their modes and
 * owners. depth starts at 0. Returns 0 or a negative errno. No allocation.
 */
int hk_copy_tree(int src, int dst, int depth);
