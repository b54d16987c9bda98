"""Return codes the stand-in puts in `retval`, with VPP's own numbers.

The values are those of VPP's `foreach_vnet_error` table (src/vnet/error.h);
only the ones a handler here can produce are listed.
"""

from enum import IntEnum


class Retval(IntEnum):
    OK = 0
    UNSPECIFIED = -1
    INVALID_SW_IF_INDEX = -2
    NO_SUCH_FIB = -3
    NO_SUCH_ENTRY = -6
    INVALID_VALUE = -7
    UNIMPLEMENTED = -9
    INVALID_SW_IF_INDEX_2 = -10
    SYSCALL_ERROR_1 = -11
    SYSCALL_ERROR_2 = -12
    SYSCALL_ERROR_3 = -13
    INVALID_REGISTRATION = -31
    NO_PATHS_IN_ROUTE = -52
    NO_MATCHING_INTERFACE = -54
    ADDRESS_NOT_FOUND_FOR_INTERFACE = -60
    INVALID_INTERFACE = -71
    TUNNEL_EXIST = -75
    INVALID_DECAP_NEXT = -76
    IF_ALREADY_EXISTS = -79
    SAME_SRC_DST = -82
    ADDRESS_IN_USE = -105
    ADDRESS_FOUND_FOR_INTERFACE = -114
    UNSUPPORTED = -126
    DUPLICATE_IF_ADDRESS = -127
    INSTANCE_IN_USE = -147
    INVALID_PREFIX_LENGTH = -171


class ApiError(Exception):
    """Raised inside the state model to abort an operation with a retval."""

    def __init__(self, retval: Retval, detail: str = "") -> None:
        super().__init__(f"{retval.name} ({int(retval)}): {detail}" if detail else retval.name)
        self.retval = retval
        self.detail = detail
