/* SPDX-License-Identifier: MIT */
/* mydsim: an out-of-tree driver for the dsim ring device (mydsim.c). */
#ifndef MYDSIM_H
#define MYDSIM_H

#include <drv/driver.h>

/* Registered when the program loads; reached only by drv_open_driver(uri, "mydsim", ...). */
extern const struct drv_driver mydsim_driver;

#endif
