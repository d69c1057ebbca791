package compile

import (
	"bytes"
	"fmt"
	"strings"

	"trail/internal/fsx"
)

// containers and vms are the ids systemd-detect-virt prints.
var containers = map[string]bool{"openvz": true, "lxc": true, "lxc-libvirt": true, "systemd-nspawn": true,
	"docker": true, "podman": true, "rkt": true, "wsl": true, "proot": true, "pouch": true}

// dmiVendors maps the start of a DMI vendor or product string to a
// hypervisor, as systemd-detect-virt does.
var dmiVendors = []struct{ prefix, id string }{
	{"KVM", "kvm"}, {"OpenStack", "kvm"}, {"KubeVirt", "kvm"}, {"Amazon EC2", "amazon"},
	{"QEMU", "qemu"}, {"VMware", "vmware"}, {"VMW", "vmware"}, {"innotek GmbH", "oracle"},
	{"VirtualBox", "oracle"}, {"Oracle Corporation", "oracle"}, {"Xen", "xen"}, {"Bochs", "bochs"},
	{"Parallels", "parallels"}, {"BHYVE", "bhyve"}, {"Hyper-V", "microsoft"},
	{"Apple Virtualization", "apple"}, {"Google Compute Engine", "google"},
}

// detectContainer tells the container the root runs in, by
// systemd-detect-virt's marks: run/host/container-manager,
// run/systemd/container, container= in the environment of PID 1,
// run/.containerenv (podman) and .dockerenv. Without a mark it is "none"
// when the root has a proc/1 (a running system), else not known.
func detectContainer(r *fsx.Root) (string, error) {
	for _, p := range []string{"/run/host/container-manager", "/run/systemd/container"} {
		if data, err := readFact(r, p); err == nil {
			return containerID(strings.TrimSpace(string(data))), nil
		}
	}
	if data, err := readFact(r, "/proc/1/environ"); err == nil {
		for _, kv := range bytes.Split(data, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("container=")); ok {
				return containerID(string(v)), nil
			}
		}
	}
	if _, err := r.Lstat("/run/.containerenv"); err == nil {
		return "podman", nil
	}
	if _, err := r.Lstat("/.dockerenv"); err == nil {
		return "docker", nil
	}
	if _, err := r.Lstat("/proc/1"); err != nil {
		return "", fmt.Errorf("%s has no running system to look at (no proc/1)", r.Dir())
	}
	return "none", nil
}

func containerID(s string) string {
	switch {
	case s == "":
		return "none"
	case containers[s]:
		return s
	}
	return "container-other"
}

// detectVM names the hypervisor by the DMI strings under
// sys/devices/virtual/dmi/id (sys/class/dmi/id is a link to it), else
// proc/xen; a hypervisor flag in proc/cpuinfo that DMI does not name is
// "vm-other" (systemd-detect-virt asks CPUID, which no file under a root
// holds). Without DMI and cpuinfo it is not known.
func detectVM(r *fsx.Root) (string, error) {
	const dmi = "/sys/devices/virtual/dmi/id/"
	seen := false
	for _, name := range []string{"product_name", "sys_vendor", "board_vendor", "bios_vendor", "product_version"} {
		data, err := readFact(r, dmi+name)
		if err != nil {
			continue
		}
		seen = true
		s := strings.TrimSpace(string(data))
		for _, v := range dmiVendors {
			if strings.HasPrefix(s, v.prefix) {
				return v.id, nil
			}
		}
	}
	if st, err := r.Lstat("/proc/xen"); err == nil && st.Type == fsx.Dir {
		return "xen", nil
	}
	data, err := readFact(r, "/proc/cpuinfo")
	if err != nil {
		if seen {
			return "none", nil
		}
		return "", fmt.Errorf("neither %s nor %s can be read", r.Host(dmi), r.Host("/proc/cpuinfo"))
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if k = strings.TrimSpace(k); k == "flags" && strings.Contains(" "+v+" ", " hypervisor ") {
			return "vm-other", nil
		}
	}
	return "none", nil
}
