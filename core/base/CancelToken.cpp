#include "CancelToken.h"

#include "Error.h"

namespace diffseg::core {

void CancelToken::throwIfCancelled(const char* what) const
{
    if (isCancelled()) {
        throw Error(ErrorKind::Cancelled, what, "cancelled");
    }
}

} // namespace diffseg::core
