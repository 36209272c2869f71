/* control.c: between processes: messages and mailboxes, terminate and cancel, monitors and
 * links, and the delivery of a process's exit. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

/* ---- Messages ------------------------------------------------------------------------------- */

/* A message and its topic are one block. */
wp_msg *wp__msg_new(wp_msg_kind kind, wp_pid from, const char *topic, wp_value *value) {
    size_t tlen = topic ? strlen(topic) : 0;
    wp_msg *m = wp_heap_alloc(heap(), sizeof *m + tlen + 1);
    if (!m)
        return NULL;
    char *t = (char *)(m + 1);
    memcpy(t, topic ? topic : "", tlen + 1);
    *m = (wp_msg){.kind = kind, .from = from, .topic = t, .value = *value};
    *value = wp_value_nil();
    return m;
}

void wp_msg_free(wp_msg *m) {
    if (!m)
        return;
    wp_value_free(&m->value);
    wp_heap_free(heap(), m, sizeof *m + strlen(m->topic) + 1);
}

void wp__mailbox_push(wp_proc *p, wp_msg *m) {
    if (p->st == PS_EXITING || !p->b->mailbox) {
        wp_msg_free(m);
        return;
    }
    m->next = NULL;
    if (p->mb_tail)
        p->mb_tail->next = m;
    else
        p->mb_head = m;
    p->mb_tail = m;
    p->mb_len++;
    if (p->waits_mailbox)
        wp__wake_locked(p, p->gen);
}

/* Delivers a new message to pid (consumed in every case). */
static wp_status deliver(wp_runtime *rt, wp_pid to, wp_msg_kind kind, wp_pid from,
                         const char *topic, wp_value *value, wp_err *err) {
    wp_proc *p = wp__table_get(rt, to);
    if (!p) {
        wp_value_free(value);
        return WP_OK; /* fire and forget: the process is gone */
    }
    wp_msg *m = wp__msg_new(kind, from, topic, value);
    if (!m) {
        wp_value_free(value);
        wp__proc_unref(p);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&p->lock);
    wp__mailbox_push(p, m);
    pthread_mutex_unlock(&p->lock);
    wp__proc_unref(p);
    return WP_OK;
}

static bool pid_in_runtime(const wp_runtime *rt, wp_pid pid) {
    uint32_t idx = (uint32_t)(pid >> 48);
    return idx >= 1 && idx <= atomic_load(&((wp_runtime *)rt)->nhosts) && (pid << 16) != 0;
}

wp_status wp_send(wp_runtime *rt, wp_pid from, wp_pid to, const char *topic, wp_value *payload,
                  wp_err *err) {
    if (!pid_in_runtime(rt, to)) {
        wp_value_free(payload);
        return wp_err_set(err, WP_ERR_INVALID, "not a process identifier");
    }
    if (topic[0] == '@') {
        wp_value_free(payload);
        return wp_err_set(err, WP_ERR_INVALID, "topic '%.100s': names starting with @ are "
                                               "reserved", topic);
    }
    return deliver(rt, to, WP_MSG_MESSAGE, from, topic, payload, err);
}

bool wp_proc_recv(wp_proc *self, wp_msg **out) {
    pthread_mutex_lock(&self->lock);
    wp_msg *m = self->mb_head;
    if (m) {
        self->mb_head = m->next;
        if (!self->mb_head)
            self->mb_tail = NULL;
        self->mb_len--;
        m->next = NULL;
    }
    pthread_mutex_unlock(&self->lock);
    *out = m;
    return m != NULL;
}

size_t wp_proc_pending(wp_proc *p) {
    pthread_mutex_lock(&p->lock);
    size_t n = p->mb_len;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* ---- Terminate and cancel ------------------------------------------------------------------- */

static wp_proc *get_alive(const wp_runtime *rt, wp_pid pid, wp_err *err) {
    wp_proc *p = wp__table_get(rt, pid);
    if (!p)
        wp_err_set(err, WP_ERR_NOT_FOUND, "process not found");
    return p;
}

wp_status wp_terminate(wp_runtime *rt, wp_pid from, wp_pid to, wp_err *err) {
    (void)from;
    wp_proc *p = get_alive(rt, to, err);
    if (!p)
        return WP_ERR_NOT_FOUND;
    pthread_mutex_lock(&p->lock);
    wp__request_kill(p, WP_ERR_CANCELED, "terminated");
    pthread_mutex_unlock(&p->lock);
    wp__proc_unref(p);
    return WP_OK;
}

wp_status wp_cancel(wp_runtime *rt, wp_pid from, wp_pid to, const char *reason, wp_err *err) {
    wp_proc *p = get_alive(rt, to, err);
    if (!p)
        return WP_ERR_NOT_FOUND;
    wp_status st = WP_OK;
    if (!p->b->mailbox) {
        pthread_mutex_lock(&p->lock);
        wp__request_kill(p, WP_ERR_CANCELED, reason ? reason : "canceled");
        pthread_mutex_unlock(&p->lock);
    } else {
        wp_value why = wp_value_nil();
        if (reason && wp_value_cstring(&why, reason) != WP_OK)
            st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        else
            st = deliver(rt, to, WP_MSG_CANCEL, from, NULL, &why, err);
    }
    wp__proc_unref(p);
    return st;
}

/* ---- Monitors and links --------------------------------------------------------------------- */

/* Adds (or removes) pid to a set of target's, unless target is exiting. */
static wp_status edit_set(wp_runtime *rt, wp_pid target, size_t set_offset, wp_pid pid, bool add,
                          wp_err *err) {
    wp_proc *p = get_alive(rt, target, err);
    if (!p)
        return WP_ERR_NOT_FOUND;
    wp_status st = WP_OK;
    pid_set *s = (pid_set *)((char *)p + set_offset);
    pthread_mutex_lock(&p->lock);
    if (p->st == PS_EXITING)
        st = add ? wp_err_set(err, WP_ERR_NOT_FOUND, "process not found") : WP_OK;
    else if (!add)
        wp__pid_set_remove(s, pid);
    else if (!wp__pid_set_add(s, pid))
        st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    pthread_mutex_unlock(&p->lock);
    wp__proc_unref(p);
    return st;
}

#define MONITORS offsetof(wp_proc, monitors)
#define LINKS offsetof(wp_proc, links)

static wp_status check_pair(const wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err) {
    if (self == target)
        return wp_err_set(err, WP_ERR_INVALID, "a process cannot watch itself");
    if (!wp_pid_alive(rt, self))
        return wp_err_set(err, WP_ERR_NOT_FOUND, "process not found");
    return WP_OK;
}

wp_status wp_monitor(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err) {
    wp_status st = check_pair(rt, self, target, err);
    return st != WP_OK ? st : edit_set(rt, target, MONITORS, self, true, err);
}

wp_status wp_unmonitor(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err) {
    if (!wp_pid_alive(rt, target))
        return WP_OK;
    return edit_set(rt, target, MONITORS, self, false, err);
}

static bool has_pid(wp_runtime *rt, wp_pid owner, size_t offset, wp_pid pid) {
    wp_proc *p = wp__table_get(rt, owner);
    if (!p)
        return false;
    pid_set *s = (pid_set *)((char *)p + offset);
    bool found = false;
    pthread_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < s->n && !found; i++)
        found = s->items[i] == pid;
    pthread_mutex_unlock(&p->lock);
    wp__proc_unref(p);
    return found;
}

wp_status wp_link(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err) {
    wp_status st = check_pair(rt, self, target, err);
    if (st != WP_OK || has_pid(rt, self, LINKS, target))
        return st;
    /* Self's side first: once target has self, its exit looks for itself in self's links. */
    if ((st = edit_set(rt, self, LINKS, target, true, err)) != WP_OK)
        return st;
    if ((st = edit_set(rt, target, LINKS, self, true, err)) != WP_OK)
        edit_set(rt, self, LINKS, target, false, NULL);
    return st;
}

wp_status wp_unlink(wp_runtime *rt, wp_pid self, wp_pid target, wp_err *err) {
    if (wp_pid_alive(rt, target))
        edit_set(rt, target, LINKS, self, false, NULL);
    if (wp_pid_alive(rt, self))
        return edit_set(rt, self, LINKS, target, false, err);
    (void)err;
    return WP_OK;
}

/* ---- Exit ----------------------------------------------------------------------------------- */

/* p, which failed with result, was linked to 'to': a LINK_DOWN event if 'to' traps links, else
 * 'to' ends too. */
static void link_down(wp_runtime *rt, wp_pid to, wp_pid from, const wp_value *result) {
    wp_proc *p = wp__table_get(rt, to);
    if (!p)
        return;
    wp_value copy = wp_value_nil();
    pthread_mutex_lock(&p->lock);
    bool linked = wp__pid_set_remove(&p->links, from);
    if (linked && p->trap_links) {
        wp_msg *m = NULL;
        if (wp_value_copy(&copy, result) == WP_OK)
            m = wp__msg_new(WP_MSG_LINK_DOWN, from, NULL, &copy);
        if (m)
            wp__mailbox_push(p, m);
        else
            wp__request_kill(p, WP_ERR_NOMEM, "out of memory for a LINK_DOWN event");
    } else if (linked) {
        char text[WP_PID_TEXT_MAX];
        char msg[WP_PID_TEXT_MAX + 64];
        wp_pid_format(rt, from, text, sizeof text);
        snprintf(msg, sizeof msg, "linked process %s failed", text);
        wp__request_kill(p, WP_ERR_CANCELED, msg);
    }
    pthread_mutex_unlock(&p->lock);
    wp_value_free(&copy);
    wp__proc_unref(p);
}

static void send_exit(wp_runtime *rt, wp_pid to, wp_pid from, const wp_value *result) {
    wp_value copy;
    if (wp_value_copy(&copy, result) != WP_OK &&
        wp_value_error(&copy, WP_ERR_NOMEM, "out of memory for the exit value", NULL) != WP_OK)
        copy = wp_value_nil();
    deliver(rt, to, WP_MSG_EXIT, from, NULL, &copy, NULL);
}

/* Takes what the exit delivers out of p, under its lock, and marks it exiting. */
static void begin_exit(wp_proc *p, pid_set *links, pid_set *monitors, wp_msg **mail,
                       uint32_t *nnames) {
    pthread_mutex_lock(&p->lock);
    p->st = PS_EXITING;
    if (p->poll)
        wp__loop_poll_cancel(p->rt, p);
    *links = p->links;
    *monitors = p->monitors;
    *mail = p->mb_head;
    *nnames = p->nnames;
    p->links = (pid_set){0};
    p->monitors = (pid_set){0};
    p->mb_head = p->mb_tail = NULL;
    p->mb_len = 0;
    pthread_mutex_unlock(&p->lock);
}

static void notify_waiter(wp_proc *p) {
    exit_waiter *w = p->waiter;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    wp_proc_take_result(p, &w->result);
    w->done = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void free_terminal(wp_proc *p) {
    if (p->host->terminal) {
        pthread_mutex_lock(&p->host->lock);
        p->host->busy = false;
        pthread_mutex_unlock(&p->host->lock);
    }
}

static void count_exit(wp_proc *p) {
    wp_runtime *rt = p->rt;
    pthread_mutex_lock(&rt->alive_lock);
    rt->alive--;
    pthread_cond_broadcast(&rt->alive_cond);
    pthread_mutex_unlock(&rt->alive_lock);
}

void wp__proc_exit(wp_proc *p) {
    wp_runtime *rt = p->rt;
    pid_set links;
    pid_set monitors;
    wp_msg *mail;
    uint32_t nnames;
    begin_exit(p, &links, &monitors, &mail, &nnames);
    /* Its room on the host first: whoever reacts to the EXIT (a supervisor restarting it)
     * finds it free. */
    wp__host_release(p->host, p->reserved);
    wp__loop_timer_cancel(rt, p);
    wp__table_remove(rt, p);
    if (nnames)
        wp__names_release(rt, p->pid);
    const wp_value *result = wp_proc_result(p);
    for (uint32_t i = 0; i < monitors.n; i++)
        send_exit(rt, monitors.items[i], p->pid, result);
    for (uint32_t i = 0; i < links.n; i++) {
        if (result->kind == WP_VERROR)
            link_down(rt, links.items[i], p->pid, result);
        else
            edit_set(rt, links.items[i], LINKS, p->pid, false, NULL);
    }
    for (wp_msg *m = mail, *next; m; m = next) {
        next = m->next;
        wp_msg_free(m);
    }
    wp__pid_set_free(&links);
    wp__pid_set_free(&monitors);
    free_terminal(p);
    count_exit(p);
    notify_waiter(p); /* last: wp_runtime_run returns and may count or free at once */
    wp__proc_unref(p); /* the life reference: closes the behaviour unless a lookup holds it */
}
