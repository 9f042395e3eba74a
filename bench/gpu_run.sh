#!/usr/bin/env bash
# The benches on a lent GPU machine (the `device` tool: no Deno, no registry there), in one call:
# adapter probe, then each named step with its own time limit; logs to $OUT.
#
# Here, once, in the repository's root (both folders are ignored through .git/info/exclude):
#   bash ../shared/tools/gpu-webgpu-probe.sh pack          # .gpu/: Deno (xz) and the probe
#   cp bench/gpu_run.sh .gpu/run.sh
#   echo /.gl/ >> .git/info/exclude; mkdir -p .gl/extra /tmp/amd64/partial
#   o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#   apt-get $o update; (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 \
#     libgl1 libglx0 libgles2)
#   (cd .gl/extra && apt-get $o download libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)
# (The extra X libraries were not needed on the 2026-11-27 H100 image: ldd found none missing.)
# Then the device tool's run, carry [".gpu", ".gl"]:
#   bash .gpu/run.sh nbody ae engine4      (or: tune whole — the whole-layer EGCL forward, ~4 min;
#   splitk — split-K on and off, ~3 min; wg — workgroups of 64 and 8, ~3 min)
# Without the glvnd libraries the NVIDIA Vulkan driver (libGLX_nvidia.so.0) does not load:
# "Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr'" and no WebGPU adapter.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
mkdir -p /tmp/xlibs; for f in .gl/extra/*.deb; do dpkg -x $f /tmp/xlibs; done
echo "== libGLX_nvidia's missing libraries (before extras)"; ldd /usr/local/nvidia/lib64/libGLX_nvidia.so.0 | grep "not found"
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/tmp/xlibs/usr/lib/x86_64-linux-gnu:/tmp/xlibs/lib/x86_64-linux-gnu"
echo "== after"; ldd /usr/local/nvidia/lib64/libGLX_nvidia.so.0 | grep "not found"
if [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json VK_ICD_FILENAMES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
bash .gpu/probe.sh true 2>&1 | tee "$OUT/probe.log"
export PATH=/tmp/gpu-deno:$PATH XDG_RUNTIME_DIR=/tmp/xdg DENO_WEBGPU_BACKEND=vulkan
ldconfig -p | grep -q libvulkan.so.1 || export LD_LIBRARY_PATH="$PWD/.gpu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -e /tmp/gpu-deno/nvidia_icd.json ] && export VK_ICD_FILENAMES=/tmp/gpu-deno/nvidia_icd.json VK_DRIVER_FILES=/tmp/gpu-deno/nvidia_icd.json
printf 'const a = await navigator.gpu.requestAdapter(); console.log(a ? JSON.stringify(a.info) : "none");\n' > /tmp/a.ts
VK_LOADER_DEBUG=error,warn deno run -A /tmp/a.ts 2>&1 | tail -8
nproc; python3 -c "import torch;print(torch.__version__, torch.cuda.get_device_name(0))"
for step in "${@}"; do
  echo "=== $step"; date +%T
  case "$step" in
    ae) timeout 70 deno run -A bench/ae.ts --steps 300 2>&1 | tee "$OUT/ae.log" ;;
    engine4|engine8|engine16) b=${step#engine}; EGNN_MATMUL_BLOCK=$b timeout 45 deno run -A bench/engine.ts --quick 2>&1 | tee "$OUT/engine$b.log" ;;
    nbody) timeout 170 deno run -A bench/nbody.ts --torch-device cuda --steps 40 --qm9-steps 10 2>&1 | tee "$OUT/nbody.log"; cp bench/results/nbody_bench.json "$OUT/" ;;
    # The whole-layer EGCL forward (kernels/egcl_layer.ts) against the per-op layers: the tuner's
    # verdict, then the N-body forward column both ways (its training step is the same either way).
    tune) EGNN_TUNING_CACHE=none timeout 60 deno run -A cli.ts tune --dry-run 2>&1 | tee "$OUT/tune.log" ;;
    # Split-K for dW (kernels/matmul.ts splitFor; the GPU rule's default) against one pass.
    # Workgroups of 64 (the GPU rule since 2026-11-28) against 8 for the storage products.
    wg) for g in 64 8; do EGNN_MATMUL_WORKGROUP=$g timeout 80 deno run -A bench/nbody.ts --models egnn,qm9 --no-torch --steps 10 --qm9-steps 3 2>&1 | tee "$OUT/nbody_wg$g.log"; done ;;
    splitk) for k in 1 0; do EGNN_MATMUL_SPLITK=$k timeout 80 deno run -A bench/nbody.ts --models egnn,qm9 --no-torch --steps 10 --qm9-steps 3 2>&1 | tee "$OUT/nbody_splitk$k.log"; done ;;
    whole) for w in on off; do timeout 80 deno run -A bench/nbody.ts --models egnn,qm9 --no-torch --steps 5 --qm9-steps 2 --whole-layer $w 2>&1 | tee "$OUT/nbody_whole_$w.log"; done ;;
    engine) timeout 90 deno run -A bench/engine.ts 2>&1 | tee "$OUT/engine.log"; cp results/bench_engine.json "$OUT/" 2>/dev/null ;;
  esac
done
date +%T
