#include "daemon/cli.hpp"

int main(int argc, char** argv)
{
    return fedgate::daemon::run_cli(argc, argv);
}
