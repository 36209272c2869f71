/* nbody.c: benchmark of double-precision arithmetic: a gravitational n-body simulation. */
#include <math.h>
#include <stdint.h>
#include <string.h>

uint64_t bench_run(int32_t n);

#define BODIES 8
#define STEP 0.001
#define SOFTENING 0.01 /* keeps close encounters finite */

typedef struct body {
    double x, y, z;
    double vx, vy, vz;
    double mass;
} body;

static body bodies[BODIES];

/* A uniform double in [lo, hi) from a 32-bit generator. */
static double uniform(uint32_t *s, double lo, double hi) {
    *s = *s * 747796405u + 2891336453u;
    return lo + (hi - lo) * (double)(*s >> 8) / 16777216.0;
}

/* A heavy body at the origin and light ones around it, with the total momentum removed so the
 * system's centre stays put. */
static void setup(void) {
    uint32_t s = 2024u;
    double px = 0.0, py = 0.0, pz = 0.0;
    for (int i = 0; i < BODIES; i++) {
        body *b = &bodies[i];
        double r = i == 0 ? 0.0 : 1.0 + i;
        b->x = r * uniform(&s, 0.5, 1.0);
        b->y = r * uniform(&s, -0.5, 0.5);
        b->z = r * uniform(&s, -0.1, 0.1);
        b->vx = uniform(&s, -0.3, 0.3);
        b->vy = i == 0 ? 0.0 : 3.0 / sqrt(r);
        b->vz = uniform(&s, -0.05, 0.05);
        b->mass = i == 0 ? 40.0 : uniform(&s, 0.01, 0.2);
        px += b->vx * b->mass;
        py += b->vy * b->mass;
        pz += b->vz * b->mass;
    }
    bodies[0].vx -= px / bodies[0].mass;
    bodies[0].vy -= py / bodies[0].mass;
    bodies[0].vz -= pz / bodies[0].mass;
}

/* One step: velocities from every pair's attraction, then positions. */
static void advance(void) {
    for (int i = 0; i < BODIES; i++) {
        body *a = &bodies[i];
        for (int j = i + 1; j < BODIES; j++) {
            body *b = &bodies[j];
            double dx = a->x - b->x;
            double dy = a->y - b->y;
            double dz = a->z - b->z;
            double d2 = dx * dx + dy * dy + dz * dz + SOFTENING;
            double mag = STEP / (d2 * sqrt(d2));
            a->vx -= dx * b->mass * mag;
            a->vy -= dy * b->mass * mag;
            a->vz -= dz * b->mass * mag;
            b->vx += dx * a->mass * mag;
            b->vy += dy * a->mass * mag;
            b->vz += dz * a->mass * mag;
        }
    }
    for (int i = 0; i < BODIES; i++) {
        bodies[i].x += STEP * bodies[i].vx;
        bodies[i].y += STEP * bodies[i].vy;
        bodies[i].z += STEP * bodies[i].vz;
    }
}

static double energy(void) {
    double e = 0.0;
    for (int i = 0; i < BODIES; i++) {
        const body *a = &bodies[i];
        e += 0.5 * a->mass * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
        for (int j = i + 1; j < BODIES; j++) {
            const body *b = &bodies[j];
            double dx = a->x - b->x;
            double dy = a->y - b->y;
            double dz = a->z - b->z;
            e -= a->mass * b->mass / sqrt(dx * dx + dy * dy + dz * dz + SOFTENING);
        }
    }
    return e;
}

/* n steps from the same start; the checksum is the exact bits of the final energy and of
 * the light bodies' positions. */
uint64_t bench_run(int32_t n) {
    setup();
    for (int32_t k = 0; k < n; k++)
        advance();
    double e = energy();
    uint64_t sum;
    memcpy(&sum, &e, sizeof sum);
    for (int i = 1; i < BODIES; i++) {
        uint64_t bits;
        memcpy(&bits, &bodies[i].x, sizeof bits);
        sum = (sum << 9 | sum >> 55) ^ bits;
    }
    return sum;
}
