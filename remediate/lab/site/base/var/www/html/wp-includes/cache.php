<?php
/**
 * WordPress-like lab stub for wp-includes/cache.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'cache.php';
