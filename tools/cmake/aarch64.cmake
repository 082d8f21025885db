# A toolchain file for cross-building for aarch64 (the phones' architecture) on Debian, with the
# cross compilers from gcc-aarch64-linux-gnu and the arm64 libraries installed side by side by
# multiarch (/usr/lib/aarch64-linux-gnu; headers shared in /usr/include). tools/aarch64.sh uses
# it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# Boost and cereal are used for their headers only, which are the same on every architecture:
# their CMake packages are taken from the host's copies (Debian puts them under the host's
# multiarch folder).
set(Boost_DIR /usr/lib/x86_64-linux-gnu/cmake/Boost-1.81.0 CACHE PATH "" FORCE)
set(boost_headers_DIR /usr/lib/x86_64-linux-gnu/cmake/boost_headers-1.81.0 CACHE PATH "" FORCE)
set(cereal_DIR /usr/lib/x86_64-linux-gnu/cmake/cereal CACHE PATH "" FORCE)
# pkg-config (which FindOpenSSL asks first) reads the arm64 packages' .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
