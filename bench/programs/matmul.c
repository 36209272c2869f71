/* matmul.c: benchmark of double-precision matrix multiplication. */
#include <stdint.h>
#include <string.h>

uint64_t bench_run(int32_t n);

#define DIM 128

static double mat_a[DIM][DIM];
static double mat_b[DIM][DIM];
static double mat_c[DIM][DIM];

static void fill(uint32_t seed) {
    for (int i = 0; i < DIM; i++) {
        for (int j = 0; j < DIM; j++) {
            seed = seed * 1103515245u + 12345u;
            mat_a[i][j] = (double)(seed >> 16 & 0x3ff) / 256.0 - 2.0;
            seed = seed * 1103515245u + 12345u;
            mat_b[i][j] = (double)(seed >> 16 & 0x3ff) / 512.0 - 1.0;
        }
    }
}

/* C = A * B, row by row in i-k-j order so the inner loop walks memory forward. */
static void multiply(void) {
    memset(mat_c, 0, sizeof mat_c);
    for (int i = 0; i < DIM; i++) {
        for (int k = 0; k < DIM; k++) {
            double a = mat_a[i][k];
            for (int j = 0; j < DIM; j++)
                mat_c[i][j] += a * mat_b[k][j];
        }
    }
}

/* Folds the exact bits of the trace and of one column into a 64-bit checksum. */
static uint64_t digest(void) {
    double trace = 0.0;
    double col = 0.0;
    for (int i = 0; i < DIM; i++) {
        trace += mat_c[i][i];
        col += mat_c[i][DIM / 3];
    }
    uint64_t t;
    uint64_t c;
    memcpy(&t, &trace, sizeof t);
    memcpy(&c, &col, sizeof c);
    return t * 0x9e3779b97f4a7c15u ^ c;
}

/* n products of freshly seeded matrices (filling is O(DIM^2), the product O(DIM^3)). */
uint64_t bench_run(int32_t n) {
    uint64_t sum = 0;
    for (int32_t r = 0; r < n; r++) {
        fill(12345u + (uint32_t)r);
        multiply();
        sum = (sum << 7 | sum >> 57) ^ digest();
    }
    return sum;
}
