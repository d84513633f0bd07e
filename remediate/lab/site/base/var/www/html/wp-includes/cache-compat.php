<?php
/**
 * WordPress-like lab stub for wp-includes/cache-compat.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'cache-compat.php';
