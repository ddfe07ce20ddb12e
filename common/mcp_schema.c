/*
 * mcp_schema: the JSON Schema subset arun's MCP tools use (see
 * mcp_schema.h). The walk is recursive, but only as deep as the schema,
 * which is ours: a deeply nested argument is refused at the first level
 * whose type does not fit, never walked.
 */
#include "mcp_schema.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int misfit(char err[MCP_SCHEMA_ERR_MAX], const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int misfit(char err[MCP_SCHEMA_ERR_MAX], const char *path, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, MCP_SCHEMA_ERR_MAX, "%s: %s", *path ? path : "arguments", why);
    return -1;
}

int mcp_schema_integer(const json_t *v, json_int_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (!json_is_real(v))
        return 0;
    double d = json_real_value(v);
    if (!(d >= -9.2e18 && d <= 9.2e18) || (double)(json_int_t)d != d)
        return 0; /* NaN, out of range, or a fraction */
    *out = (json_int_t)d;
    return 1;
}

static int type_is(const json_t *v, const char *type)
{
    json_int_t i;
    if (!strcmp(type, "string"))
        return json_is_string(v);
    if (!strcmp(type, "integer"))
        return mcp_schema_integer(v, &i);
    if (!strcmp(type, "number"))
        return json_is_number(v);
    if (!strcmp(type, "boolean"))
        return json_is_boolean(v);
    if (!strcmp(type, "array"))
        return json_is_array(v);
    if (!strcmp(type, "object"))
        return json_is_object(v);
    if (!strcmp(type, "null"))
        return json_is_null(v);
    return 0;
}

static const char *kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static int check_type(const json_t *schema, const json_t *v, const char *path,
                      char err[MCP_SCHEMA_ERR_MAX])
{
    const json_t *t = json_object_get(schema, "type");
    if (!t)
        return 0;
    if (json_is_string(t)) {
        if (type_is(v, json_string_value(t)))
            return 0;
        return misfit(err, path, "expected %s, got %s", json_string_value(t), kind_of(v));
    }
    size_t i;
    const json_t *one;
    json_array_foreach(t, i, one) {
        if (json_is_string(one) && type_is(v, json_string_value(one)))
            return 0;
    }
    return misfit(err, path, "%s is not an allowed type", kind_of(v));
}

/* Code points of a valid UTF-8 string (jansson only holds valid UTF-8). */
static size_t utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

static int check_string(const json_t *schema, const json_t *v, const char *path,
                        char err[MCP_SCHEMA_ERR_MAX])
{
    json_int_t lim;
    size_t len = utf8_length(json_string_value(v), json_string_length(v));
    if (mcp_schema_integer(json_object_get(schema, "minLength"), &lim) && (json_int_t)len < lim)
        return misfit(err, path, "shorter than %lld characters", (long long)lim);
    if (mcp_schema_integer(json_object_get(schema, "maxLength"), &lim) && (json_int_t)len > lim)
        return misfit(err, path, "longer than %lld characters", (long long)lim);
    const char *pattern = json_string_value(json_object_get(schema, "pattern"));
    if (pattern) {
        regex_t re;
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
            return misfit(err, path, "the schema's pattern does not compile");
        /* a NUL inside the string would end it early for regexec: refuse it */
        int ok = strlen(json_string_value(v)) == json_string_length(v) &&
                 regexec(&re, json_string_value(v), 0, NULL, 0) == 0;
        regfree(&re);
        if (!ok)
            return misfit(err, path, "does not match %s", pattern);
    }
    return 0;
}

static int check_number(const json_t *schema, const json_t *v, const char *path,
                        char err[MCP_SCHEMA_ERR_MAX])
{
    double d = json_number_value(v);
    const json_t *min = json_object_get(schema, "minimum");
    const json_t *max = json_object_get(schema, "maximum");
    if (json_is_number(min) && d < json_number_value(min))
        return misfit(err, path, "less than the minimum %g", json_number_value(min));
    if (json_is_number(max) && d > json_number_value(max))
        return misfit(err, path, "more than the maximum %g", json_number_value(max));
    return 0;
}

static int check(const json_t *schema, const json_t *v, const char *path,
                 char err[MCP_SCHEMA_ERR_MAX]);

static int check_object(const json_t *schema, const json_t *v, const char *path,
                        char err[MCP_SCHEMA_ERR_MAX])
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *extra = json_object_get(schema, "additionalProperties");
    const json_t *req = json_object_get(schema, "required");
    size_t i;
    const json_t *name;
    json_array_foreach(req, i, name) {
        if (json_is_string(name) && !json_object_get(v, json_string_value(name)))
            return misfit(err, path, "missing required property \"%s\"", json_string_value(name));
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        const json_t *ps = json_object_get(props, key);
        if (ps) {
            if (check(ps, val, sub, err) < 0)
                return -1;
        } else if (json_is_false(extra)) {
            return misfit(err, path, "unknown property \"%.64s\"", key);
        } else if (json_is_object(extra) && check(extra, val, sub, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int check_array(const json_t *schema, const json_t *v, const char *path,
                       char err[MCP_SCHEMA_ERR_MAX])
{
    json_int_t lim;
    if (mcp_schema_integer(json_object_get(schema, "maxItems"), &lim) &&
        (json_int_t)json_array_size(v) > lim)
        return misfit(err, path, "more than %lld items", (long long)lim);
    const json_t *items = json_object_get(schema, "items");
    if (!json_is_object(items))
        return 0;
    size_t i;
    const json_t *one;
    json_array_foreach(v, i, one) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (check(items, one, sub, err) < 0)
            return -1;
    }
    return 0;
}

static int check(const json_t *schema, const json_t *v, const char *path,
                 char err[MCP_SCHEMA_ERR_MAX])
{
    if (json_is_true(schema) || !json_is_object(schema))
        return 0;
    if (check_type(schema, v, path, err) < 0)
        return -1;
    const json_t *en = json_object_get(schema, "enum");
    if (json_is_array(en)) {
        size_t i;
        const json_t *one;
        int found = 0;
        json_array_foreach(en, i, one) found |= json_equal((json_t *)one, (json_t *)v);
        if (!found)
            return misfit(err, path, "not one of the allowed values");
    }
    if (json_is_string(v))
        return check_string(schema, v, path, err);
    if (json_is_number(v))
        return check_number(schema, v, path, err);
    if (json_is_object(v))
        return check_object(schema, v, path, err);
    if (json_is_array(v))
        return check_array(schema, v, path, err);
    return 0;
}

int mcp_schema_check(const json_t *schema, const json_t *value, char err[MCP_SCHEMA_ERR_MAX])
{
    err[0] = '\0';
    return check(schema, value, "", err);
}
