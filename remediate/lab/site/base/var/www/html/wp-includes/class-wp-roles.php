<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-roles.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-roles.php';
