# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The service's numba kernels (role_kernel, key_index, packed) as Cython, line for line.

Only for bench/numba_compare.py's cython column; not part of the service. Built outside the tree
(Cython 3.3.2, gcc -O3 as setuptools calls it), from the repository's root:

    uv pip install --target /tmp/cy cython setuptools
    mkdir -p /tmp/cyk && cp bench/cython_kernels.pyx /tmp/cyk/
    PYTHONPATH=/tmp/cy .venv/bin/python /tmp/cy/bin/cythonize -i -3 /tmp/cyk/cython_kernels.pyx
    uv run python bench/numba_compare.py --cython /tmp/cyk
"""

from libc.math cimport INFINITY, isnan, pow
from libc.stdint cimport int8_t, int16_t, int64_t, uint8_t, uint16_t, uint64_t

cdef enum:
    X = 0
    RATE = 1
    P00 = 2
    P01 = 3
    P11 = 4
    LAST = 5
    HEARD = 0
    ARRIVED = 1
    APPROACHING = 2
    INSIDE_SINCE = 3
    OUTSIDE_SINCE = 4
    NO_ROLE = 0
    DOOR_ROLE = 1
    INSIDE_ROLE = 2
    APPROACH_ROLE = 3


def observe_round(double[:, :, ::1] links, double[:, ::1] state, Py_ssize_t[::1] rows, double[::1] t,
                  double[::1] z, double[::1] count, int64_t column, int8_t[::1] roles, double[::1] cfg,
                  int64_t[::1] out_index, double[:, ::1] out_values):
    cdef double stale = cfg[0], q = cfg[1]
    cdef bint approach_gateway = roles[column] == APPROACH_ROLE
    cdef int64_t found = 0
    cdef Py_ssize_t i, row, c, near_col, door_col, inside_col
    cdef double ti, dt, x, rate, p00, p01, p11, dt2, s, k0, k1, y, age, level
    cdef double door, inside, outside, near, margin, near_rate, d, slack, radius
    cdef bint restart, newer, arrived, has_door, moving
    cdef int8_t role
    for i in range(rows.shape[0]):
        row = rows[i]
        ti = t[i]
        dt = ti - links[row, column, LAST]
        restart = not (dt <= stale)
        newer = dt > 0
        if restart:
            links[row, column, X] = z[i]
            links[row, column, RATE] = 0.0
            links[row, column, P00] = 25.0
            links[row, column, P01] = 0.0
            links[row, column, P11] = 4.0
            links[row, column, LAST] = ti
        elif newer:
            x = links[row, column, X]
            rate = links[row, column, RATE]
            p00 = links[row, column, P00]
            p01 = links[row, column, P01]
            p11 = links[row, column, P11]
            dt2 = dt * dt
            x = x + rate * dt
            p00 = p00 + dt * (2 * p01 + dt * p11) + q * dt2 * dt / 3
            p01 = p01 + dt * p11 + q * dt2 / 2
            p11 = p11 + q * dt
            s = p00 + (cfg[2] / max(count[i], 1.0) + cfg[3])
            k0 = p00 / s
            k1 = p01 / s
            y = z[i] - x
            links[row, column, X] = x + k0 * y
            links[row, column, RATE] = rate + k1 * y
            links[row, column, P11] = p11 - k1 * p01
            links[row, column, P01] = (1 - k0) * p01
            links[row, column, P00] = (1 - k0) * p00
            links[row, column, LAST] = ti
        else:
            continue
        state[row, HEARD] = max(state[row, HEARD], ti)
        arrived = state[row, ARRIVED] != 0
        if approach_gateway and not arrived:
            continue
        door = inside = outside = -INFINITY
        door_col = inside_col = 0
        for c in range(links.shape[1]):
            role = roles[c]
            if role == NO_ROLE:
                continue
            age = ti - links[row, c, LAST]
            if not age <= stale:
                continue
            level = links[row, c, X] + links[row, c, RATE] * age
            if role == DOOR_ROLE:
                if level > door:
                    door, door_col = level, c
            elif role == INSIDE_ROLE:
                if level > inside:
                    inside, inside_col = level, c
            elif level > outside:
                outside = level
        has_door = door > -INFINITY
        if not has_door and not inside > -INFINITY:
            continue
        near = door if has_door else inside
        near_col = door_col if has_door else inside_col
        margin = near - outside if outside > -INFINITY else cfg[9]
        near_rate = links[row, near_col, RATE]
        d = pow(10.0, -near / (10 * cfg[4]))
        slack = cfg[11]
        if arrived:
            moving = d >= cfg[8] * (1 - slack) or margin <= -cfg[9] or not isnan(state[row, OUTSIDE_SINCE])
        else:
            radius = cfg[5] if has_door else cfg[6]
            moving = (
                (d <= radius * (1 + slack) and margin >= cfg[9])
                or (state[row, APPROACHING] == 0 and has_door and d <= cfg[7] * (1 + slack)
                    and near_rate >= cfg[10])
                or not isnan(state[row, INSIDE_SINCE])
            )
        if moving:
            out_index[found] = i
            out_values[found, 0] = near
            out_values[found, 1] = margin
            out_values[found, 2] = near_rate
            out_values[found, 3] = 1.0 if has_door else 0.0
            out_values[found, 4] = near_col
            found += 1
    return found


def keep_keyed(Py_ssize_t[::1] rows, uint64_t[::1] keys, uint64_t[::1] row_key, uint8_t[::1] row_keyed):
    cdef int64_t held = 0
    cdef Py_ssize_t i, row
    for i in range(rows.shape[0]):
        row = rows[i]
        if row >= 0 and row_keyed[row] and row_key[row] == keys[i]:
            held += 1
        else:
            rows[i] = -1
    return held


def occurrences(Py_ssize_t[::1] rows, int64_t[::1] mark, int64_t[::1] seen, int64_t stamp, int64_t[::1] out):
    cdef int64_t most = 0
    cdef Py_ssize_t i, row
    for i in range(rows.shape[0]):
        row = rows[i]
        if mark[row] == stamp:
            seen[row] += 1
            out[i] = seen[row]
            most = max(most, seen[row])
        else:
            mark[row] = stamp
            seen[row] = 0
            out[i] = 0
    return most


cdef inline uint64_t _probe(uint64_t[::1] table_keys, Py_ssize_t[::1] table_values, uint64_t key) noexcept:
    cdef uint64_t mask = table_keys.shape[0] - 1
    cdef uint64_t slot = ((key * <uint64_t>0x9E3779B97F4A7C15) >> 32) & mask
    while table_values[slot] != -1 and table_keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


def find(uint64_t[::1] table_keys, Py_ssize_t[::1] table_values, uint64_t[::1] keys, Py_ssize_t[::1] out):
    cdef int64_t present = 0
    cdef Py_ssize_t i
    for i in range(keys.shape[0]):
        out[i] = table_values[_probe(table_keys, table_values, keys[i])]
        if out[i] != -1:
            present += 1
    return present


def insert(uint64_t[::1] table_keys, Py_ssize_t[::1] table_values, uint64_t[::1] keys, Py_ssize_t[::1] values):
    cdef int64_t new = 0
    cdef Py_ssize_t i
    cdef uint64_t slot
    for i in range(keys.shape[0]):
        slot = _probe(table_keys, table_values, keys[i])
        if table_values[slot] == -1:
            new += 1
        table_keys[slot] = keys[i]
        table_values[slot] = values[i]
    return new


def scan(uint64_t[::1] key, double[::1] t, int16_t[::1] rssi, int16_t[::1] rssi_max, uint16_t[::1] n,
         int8_t[::1] tx, uint8_t[::1] scheme):
    cdef int64_t others = 0
    cdef Py_ssize_t i
    for i in range(key.shape[0]):
        if scheme[i] < 1 or scheme[i] > 3:
            return i, 0
        if scheme[i] == 3 and key[i] >= (<uint64_t>1 << 48):
            return 1 << 32 | i, 0
        if not (t[i] >= 0 and t[i] < INFINITY):
            return 2 << 32 | i, 0
        if rssi[i] < -1270 or rssi[i] > 200:
            return 3 << 32 | i, 0
        if rssi_max[i] < -1270 or rssi_max[i] > 200:
            return 4 << 32 | i, 0
        if n[i] < 1:
            return 5 << 32 | i, 0
        if tx[i] > 20:
            return 6 << 32 | i, 0
        if scheme[i] != 1:
            others += 1
    return -1, others


def levels(double[::1] t, double earliest, double latest, int16_t[::1] rssi, int8_t[::1] tx, uint16_t[::1] n,
           double power, double[::1] z, double[::1] count):
    cdef int64_t outside = 0
    cdef Py_ssize_t i
    for i in range(t.shape[0]):
        if not (earliest <= t[i] <= latest):
            outside += 1
        z[i] = rssi[i] / 10.0 - (power if tx[i] == -128 else <double>tx[i])
        count[i] = n[i]
    return outside
