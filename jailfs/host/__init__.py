"""Linux isolation for jails: cgroups, namespaces, privileges.

Used by the daemon (jailfs/fs) and by the keeper that enters a jail; the
kernel model (jailfs/kernel) never imports from here.
"""
