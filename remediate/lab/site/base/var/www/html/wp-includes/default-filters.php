<?php
/**
 * WordPress-like lab stub for wp-includes/default-filters.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'default-filters.php';
