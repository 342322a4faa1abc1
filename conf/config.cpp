#include "conf/config.hpp"
