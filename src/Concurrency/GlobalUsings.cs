global using Coordination.Client;
