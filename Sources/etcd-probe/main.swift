// Placeholder until the probe issue; replaced below in this change.
print("etcd-probe")
