/* test_value.c: the dynamic value type: scalars, strings and bytes, arrays, maps, errors with
 * chains, deep copy, equality, moves, printing. */
#include <math.h>

#include "test.h"
#include "wippy/value.h"

static const char *printed(const wp_value *v) {
    static char buf[1024];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    if (!f)
        return "";
    wp_value_print(f, v);
    fclose(f);
    return buf;
}

static void test_scalars_and_strings(void) {
    wp_value v = wp_value_int(-7);
    CHECK(strcmp(printed(&v), "-7") == 0);
    v = wp_value_float(1.0);
    CHECK(strcmp(printed(&v), "1.0") == 0); /* never mistaken for an integer */
    v = wp_value_float(0.1);
    CHECK(strcmp(printed(&v), "0.1") == 0); /* shortest form that reads back */
    v = wp_value_float(NAN);
    CHECK(strcmp(printed(&v), "nan") == 0);
    v = wp_value_bool(false);
    CHECK(strcmp(printed(&v), "false") == 0);
    v = wp_value_nil();
    CHECK(strcmp(printed(&v), "nil") == 0);

    wp_value s;
    CHECK_EQ(wp_value_string(&s, "a\0b\"\n", 5), WP_OK);
    size_t len = 0;
    const char *p = wp_value_str(&s, &len);
    CHECK_EQ(len, 5);
    CHECK(p[1] == '\0' && p[5] == '\0'); /* holds NUL and is NUL-terminated */
    CHECK(strcmp(printed(&s), "\"a\\x00b\\\"\\n\"") == 0);
    wp_value b;
    CHECK_EQ(wp_value_bytes(&b, "\x01\xff", 2), WP_OK);
    CHECK(strcmp(printed(&b), "b\"\\x01\\xff\"") == 0);
    CHECK(!wp_value_equal(&s, &b)); /* string and bytes differ even with equal contents */
    wp_value_free(&s);
    CHECK_EQ(s.kind, WP_VNIL); /* free leaves nil */
    wp_value_free(&s);         /* and freeing nil is fine */
    wp_value_free(&b);
    wp_value_free(NULL);
    CHECK(wp_value_str(&v, &len) == NULL && len == 0);
    wp_value i1 = wp_value_int(1);
    wp_value f1 = wp_value_float(1.0);
    CHECK(!wp_value_equal(&i1, &f1));
}

static void test_containers(void) {
    wp_value arr;
    CHECK_EQ(wp_value_array(&arr, 0), WP_OK);
    for (int i = 0; i < 100; i++) { /* grows past its first capacity */
        wp_value item = wp_value_int(i);
        CHECK_EQ(wp_value_array_push(&arr, &item), WP_OK);
    }
    CHECK_EQ(wp_value_len(&arr), 100);
    CHECK_EQ(wp_value_at(&arr, 99)->of.i, 99);
    CHECK(wp_value_at(&arr, 100) == NULL);

    wp_value map;
    CHECK_EQ(wp_value_map(&map, 2), WP_OK);
    wp_value name;
    wp_value_cstring(&name, "wippy");
    CHECK_EQ(wp_value_map_set_str(&map, "name", &name), WP_OK);
    CHECK_EQ(name.kind, WP_VNIL); /* moved */
    CHECK_EQ(wp_value_map_set_str(&map, "list", &arr), WP_OK);
    CHECK_EQ(arr.kind, WP_VNIL);
    wp_value k = wp_value_int(5);
    wp_value v = wp_value_bool(true);
    CHECK_EQ(wp_value_map_set(&map, &k, &v), WP_OK);
    wp_value again = wp_value_int(6);
    CHECK_EQ(wp_value_map_set_str(&map, "name", &again), WP_OK); /* replaces, keeps place */
    CHECK_EQ(wp_value_len(&map), 3);
    CHECK_EQ(wp_value_map_get(&map, "name")->of.i, 6);
    CHECK(wp_value_map_get(&map, "none") == NULL);
    const wp_value *pk;
    const wp_value *pv;
    CHECK(wp_value_map_pair(&map, 0, &pk, &pv) && strcmp(wp_value_str(pk, NULL), "name") == 0);
    CHECK(!wp_value_map_pair(&map, 3, &pk, &pv));
    wp_value bad = wp_value_nil();
    wp_value val = wp_value_int(1);
    CHECK_EQ(wp_value_map_set(&map, &bad, &val), WP_ERR_INVALID); /* nil is no key */
    bad = wp_value_float(NAN);
    CHECK_EQ(wp_value_map_set(&map, &bad, &val), WP_ERR_INVALID);

    /* A deep copy is equal and independent. */
    wp_value copy;
    CHECK_EQ(wp_value_copy(&copy, &map), WP_OK);
    CHECK(wp_value_equal(&copy, &map));
    wp_value seven = wp_value_int(7);
    wp_value_array_push(wp_value_map_get(&copy, "list"), &seven);
    CHECK(!wp_value_equal(&copy, &map));
    CHECK_EQ(wp_value_len(wp_value_map_get(&map, "list")), 100);
    wp_value_free(&copy);

    /* Map equality ignores order. */
    wp_value m1;
    wp_value m2;
    wp_value_map(&m1, 0);
    wp_value_map(&m2, 0);
    wp_value a1 = wp_value_int(1), b1 = wp_value_int(2), a2 = wp_value_int(1), b2 = wp_value_int(2);
    wp_value_map_set_str(&m1, "a", &a1);
    wp_value_map_set_str(&m1, "b", &b1);
    wp_value_map_set_str(&m2, "b", &b2);
    wp_value_map_set_str(&m2, "a", &a2);
    CHECK(wp_value_equal(&m1, &m2));
    CHECK(strcmp(printed(&m1), "{\"a\": 1, \"b\": 2}") == 0);
    wp_value c2 = wp_value_int(3);
    wp_value_map_set_str(&m2, "a", &c2);
    CHECK(!wp_value_equal(&m1, &m2));
    wp_value_free(&m1);
    wp_value_free(&m2);
    wp_value_free(&map);
}

static void test_errors(void) {
    wp_err err = {0};
    wp_err_set(&err, WP_ERR_NOT_FOUND, "no such file");
    wp_value inner;
    CHECK_EQ(wp_value_from_err(&inner, &err), WP_OK);
    CHECK_EQ(wp_value_error_kind(&inner), WP_ERR_NOT_FOUND);
    wp_value outer;
    CHECK_EQ(wp_value_error(&outer, WP_ERR_UNAVAILABLE, "loading config", &inner), WP_OK);
    CHECK_EQ(inner.kind, WP_VNIL); /* the cause moved in */
    CHECK(strcmp(wp_value_error_msg(&outer), "loading config") == 0);
    CHECK(wp_value_error_kind(wp_value_error_cause(&outer)) == WP_ERR_NOT_FOUND);
    CHECK(wp_value_error_cause(wp_value_error_cause(&outer)) == NULL);
    CHECK(strcmp(printed(&outer), "error(UNAVAILABLE: loading config: no such file)") == 0);
    wp_value copy;
    CHECK_EQ(wp_value_copy(&copy, &outer), WP_OK);
    CHECK(wp_value_equal(&copy, &outer));
    wp_value_free(&copy);
    wp_value_free(&outer);
    wp_value plain = wp_value_int(1);
    CHECK_EQ(wp_value_error_kind(&plain), WP_OK);
    CHECK(wp_value_error_msg(&plain) == NULL);
    wp_value ok_kind;
    CHECK_EQ(wp_value_error(&ok_kind, WP_OK, "x", NULL), WP_OK);
    CHECK_EQ(wp_value_error_kind(&ok_kind), WP_ERR_INTERNAL); /* an error is never OK */
    wp_value_free(&ok_kind);
    CHECK(strcmp(wp_vkind_name(WP_VERROR), "error") == 0);
}

int main(void) {
    RUN_TEST(test_scalars_and_strings);
    RUN_TEST(test_containers);
    RUN_TEST(test_errors);
    return TEST_EXIT();
}
