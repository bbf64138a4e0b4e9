#!/usr/bin/python3
"""A notification server for the end-to-end tests' session bus, that records what it is sent.

    /usr/bin/python3 tests/e2e/notifications.py FILE

Owns org.freedesktop.Notifications on the session bus (DBUS_SESSION_BUS_ADDRESS) and serves
the Desktop Notifications interface at /org/freedesktop/Notifications: GetCapabilities,
GetServerInformation, Notify (appends one JSON line to FILE: id, app_name, replaces_id,
app_icon, summary, body, actions, hint names, expire_timeout; answers a new id, 1, 2, …) and
CloseNotification (emits NotificationClosed). Prints "ready" once the name is owned; exits 1
if it cannot own it (another server holds it). Needs python3-gi (Gio): run it with Debian's
/usr/bin/python3.
"""

import json
import sys

from gi.repository import Gio, GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTERFACE = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="GetCapabilities">
      <arg type="as" name="capabilities" direction="out"/>
    </method>
    <method name="Notify">
      <arg type="s" name="app_name" direction="in"/>
      <arg type="u" name="replaces_id" direction="in"/>
      <arg type="s" name="app_icon" direction="in"/>
      <arg type="s" name="summary" direction="in"/>
      <arg type="s" name="body" direction="in"/>
      <arg type="as" name="actions" direction="in"/>
      <arg type="a{sv}" name="hints" direction="in"/>
      <arg type="i" name="expire_timeout" direction="in"/>
      <arg type="u" name="id" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg type="u" name="id" direction="in"/>
    </method>
    <method name="GetServerInformation">
      <arg type="s" name="name" direction="out"/>
      <arg type="s" name="vendor" direction="out"/>
      <arg type="s" name="version" direction="out"/>
      <arg type="s" name="spec_version" direction="out"/>
    </method>
    <signal name="NotificationClosed">
      <arg type="u" name="id"/>
      <arg type="u" name="reason"/>
    </signal>
    <signal name="ActionInvoked">
      <arg type="u" name="id"/>
      <arg type="s" name="action_key"/>
    </signal>
  </interface>
</node>
"""


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: notifications.py FILE")
    record_path = sys.argv[1]
    loop = GLib.MainLoop()
    last_id = [0]
    lost = [False]
    info = Gio.DBusNodeInfo.new_for_xml(INTERFACE).interfaces[0]

    def record(entry):
        with open(record_path, "a", encoding="utf-8") as record_file:
            record_file.write(json.dumps(entry) + "\n")

    def method_call(connection, _sender, _path, _interface, method, parameters, invocation):
        if method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body", "actions"],)))
        elif method == "GetServerInformation":
            invocation.return_value(
                GLib.Variant("(ssss)", ("upshot-e2e", "upshot", "1", "1.2")))
        elif method == "Notify":
            app_name, replaces_id, app_icon, summary, body, actions, hints, expire = (
                parameters.unpack())
            last_id[0] += 1
            record({
                "id": last_id[0],
                "app_name": app_name,
                "replaces_id": replaces_id,
                "app_icon": app_icon,
                "summary": summary,
                "body": body,
                "actions": actions,
                "hints": sorted(hints),
                "expire_timeout": expire,
            })
            invocation.return_value(GLib.Variant("(u)", (last_id[0],)))
        elif method == "CloseNotification":
            (closed,) = parameters.unpack()
            invocation.return_value(None)
            # Reason 3: closed by a call to CloseNotification.
            connection.emit_signal(None, PATH, NAME, "NotificationClosed",
                                   GLib.Variant("(uu)", (closed, 3)))
        else:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)

    def bus_acquired(connection, _name):
        connection.register_object(PATH, info, method_call, None, None)

    def name_acquired(_connection, _name):
        print("ready", flush=True)

    def name_lost(_connection, _name):
        print(f"could not own {NAME} on the session bus", file=sys.stderr, flush=True)
        lost[0] = True
        loop.quit()

    Gio.bus_own_name(Gio.BusType.SESSION, NAME, Gio.BusNameOwnerFlags.DO_NOT_QUEUE,
                     bus_acquired, name_acquired, name_lost)
    loop.run()
    return 1 if lost[0] else 0


if __name__ == "__main__":
    sys.exit(main())
