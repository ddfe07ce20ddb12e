/*
 * table: columns aligned for people (arun-ctl's default output): cells
 * are collected row by row, then printed with each column as wide as its
 * widest cell; a cell longer than TABLE_CELL_MAX bytes is cut with "...".
 */
#ifndef ARUN_CTL_TABLE_H
#define ARUN_CTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_COLS_MAX 12
#define TABLE_CELL_MAX 60

struct table;

/* A table with ncols columns named by header (ncols strings). Returns NULL
 * when out of memory. */
struct table *table_new(size_t ncols, const char *const *header);

/* Adds a row of ncols cells (copied; NULL prints as "-"). Returns 0, or -1
 * when out of memory. */
int table_add(struct table *t, const char *const *cells);

/* Prints the header and rows to f, then frees t. */
void table_print(struct table *t, FILE *f);

#endif
